"""Precise rules beside the semantic check: word patterns that are right whenever they match.

A rule only ever raises a score. Each returns the categories it scores and names itself in
`hits` (for the log), so a refusal can be traced to the rule that made it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.api import HARASSMENT, PUBLIC_FIGURE, SEXUAL, SEXUAL_MINORS, WEAPONS_DRUGS


def _words(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(patterns) + r")\b", re.IGNORECASE)


SEXUAL_WORDS = _words(
    r"naked",
    r"nude",
    r"nudity",
    # Not "sex ed": teens in a sex-education class is no sexual content.
    r"sex(?! ?ed\b)(?! education)",
    r"sexual(?:ly|i[sz]ed)?(?! education)",
    r"sexy",
    r"porn\w*",
    r"erotic\w*",
    r"nsfw",
    r"xxx",
    r"x-rated",
    r"strip(?:ping|per|pers|tease)",
    r"topless",
    r"lingerie",
    r"seductive(?:ly)?",
    r"seduc\w+",
    r"masturbat\w+",
    r"orgasm\w*",
    r"genitals?|genitalia",
    r"penis|vagina|nipples?|boobs",
    r"lap ?dance",
    r"horny",
    r"lewd",
    r"hentai",
    r"onlyfans",
)
# Words that put a minor in the text. "girl", "boy" and "baby" are left out: grown-ups use them
# for each other ("hey baby"), and a rule must be right whenever it matches.
# The words that make a text sexual by themselves, whatever else it says.
EXPLICIT_WORDS = _words(
    r"porn\w*",
    r"nsfw",
    r"xxx",
    r"x-rated",
    r"hentai",
    r"masturbat\w+",
    r"orgasm\w*",
    r"genitals?|genitalia",
    r"penis|vagina",
    r"onlyfans",
    r"having sex|sex (?:scene|tape|video)",
)
MINOR_WORDS = _words(
    r"child(?:ren)?",
    r"kids?",
    r"minors?",
    r"underage",
    r"pre-?teens?",
    r"teens?",
    r"teenage(?:rs?)?",
    r"school ?(?:girls?|boys?|kids?)",
    r"toddlers?",
    r"infants?",
    r"little (?:girls?|boys?)",
    r"young (?:girls?|boys?)",
    r"lol(?:i|ita)",
    r"kindergart\w+",
    r"(?:middle|elementary|grade|primary) school\w*",
    r"high school (?:girls?|boys?|freshmen|freshman|students?)",
    r"jailbait",
    r"(?:pre)?pubescent",
    r"(?:[1-9]|1[0-7]) ?(?:-? ?years?|-? ?yrs?)[- ]old",
    r"(?:[1-9]|1[0-7]) ?yo",
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen"
    r"|fifteen|sixteen|seventeen)[- ]years?[- ]old",
)
INSTRUCTION_WORDS = re.compile(
    r"\b(?:how (?:to|do (?:i|you)|can i)|step[- ]by[- ]step|steps to|recipe for|instructions?"
    r" (?:for|to|on)|tutorial (?:on|for)|guide (?:to|for)|teach me|explain(?:s|ed)? how"
    r"|show(?:s|ing)? (?:me )?how)\b",
    re.IGNORECASE,
)
WEAPON_DRUG_WORDS = re.compile(
    r"(?<!bath )(?<!smoke )(?<!seed )(?<!glitter )\b(?:bombs?|explosives?|ieds?|grenades?"
    r"|napalm|thermite|detonators?|molotov|ghost guns?|untraceable (?:gun|pistol|rifle)s?"
    r"|zip guns?|3d[- ]print(?:ed)? guns?|full[- ]auto|machine guns?|silencers?|suppressors?"
    r"|unregistered (?:gun|pistol|rifle)s?|sawed[- ]off|sawing off|meth(?:amphetamine)?"
    r"|fentanyl|cocaine|crack|heroin|mdma|ecstasy|lsd|dmt|ricin|sarin|nerve (?:gas|agent)"
    r"|bioweapons?|chloroform|poisons?|chlorine gas)\b",
    re.IGNORECASE,
)
MENTION = re.compile(r"@\w+")
SLURS_AT_PERSON = _words(
    r"slut",
    r"whore",
    r"bitch",
    r"retard(?:ed)?",
    r"worthless",
    r"loser",
    r"kill (?:him|her|them)sel(?:f|ves)|kill yourself|go die",
)
# Well-known real people whose realistic depiction is a deepfake risk. Short on purpose: the
# semantic check covers the rest; these are names that are only ever the person.
PUBLIC_NAMES = _words(
    r"(?:joe )?biden",
    r"(?:donald )?trump",
    r"(?:barack )?obama",
    r"kamala harris",
    r"hillary clinton",
    r"bill clinton",
    r"(?:vladimir )?putin",
    r"(?:volodymyr )?zelensk[yi]j?",
    r"xi jinping",
    r"kim jong[- ]un",
    r"narendra modi",
    r"(?:emmanuel )?macron",
    r"king charles",
    r"queen elizabeth",
    r"princess diana",
    r"pope francis",
    r"pope leo",
    r"elon musk",
    r"mark zuckerberg",
    r"bill gates",
    r"jeff bezos",
    r"steve jobs",
    r"taylor swift",
    r"beyonc[eé]",
    r"kim kardashian",
    r"justin bieber",
    r"oprah(?: winfrey)?",
    r"tom hanks",
    r"keanu reeves",
    r"lebron james",
    r"cristiano ronaldo",
    r"lionel messi",
    r"michael jackson",
    r"marilyn monroe",
    r"joe rogan",
    r"greta thunberg",
)
REALISM_WORDS = _words(
    r"realistic(?:ally)?",
    r"photo-?realistic",
    r"hyper-?realistic",
    r"real (?:footage|photo|video|interview|news)",
    r"looks? real",
    r"footage",
    r"news",
    r"press conference",
    r"leaked",
    r"cctv",
    r"security (?:camera|cam)",
    r"bodycam",
    r"live (?:tv|on tv)",
    r"tv (?:address|interview)",
    r"broadcast",
    r"deep-?fake",
    r"interview",
)
OFFICE_WORDS = _words(
    r"the president",
    r"prime minister",
    r"chancellor",
    r"the pope",
    r"the (?:king|queen) of \w+",
)
NOT_REALISTIC_WORDS = _words(
    r"cartoon\w*",
    r"animated",
    r"anime",
    r"puppets?",
    r"claymation",
    r"drawing",
    r"sketch",
    r"costume",
    r"dressed (?:up )?as",
    r"impersonat\w+",
    r"look-?alike",
    r"statue",
    r"wax",
    r"lego",
    r"muppets?",
)


@dataclass
class RuleScores:
    scores: dict[str, float] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    def raise_to(self, category: str, score: float, rule: str) -> None:
        self.scores[category] = max(self.scores.get(category, 0.0), score)
        self.hits.append(rule)


def apply_rules(text: str, sexual_score: float) -> RuleScores:
    """The rule scores for one text. `sexual_score` is the semantic check's sexual score: a
    minor together with anything sexual, by word or by meaning, is sexual content involving
    minors."""
    found = RuleScores()
    minor = MINOR_WORDS.search(text) is not None
    sexual_word = SEXUAL_WORDS.search(text) is not None
    if minor and (sexual_word or sexual_score >= SEXUAL_WITH_MINOR):
        found.raise_to(SEXUAL_MINORS, 1.0, "sexual+minor")
    if EXPLICIT_WORDS.search(text):
        found.raise_to(SEXUAL, 1.0, "explicit-word")
    if INSTRUCTION_WORDS.search(text) and WEAPON_DRUG_WORDS.search(text):
        found.raise_to(WEAPONS_DRUGS, 1.0, "instructions+weapon-or-drug")
    if MENTION.search(text) and SLURS_AT_PERSON.search(text):
        found.raise_to(HARASSMENT, 0.9, "mention+slur")
    _public_figure(text, found)
    return found


def _public_figure(text: str, found: RuleScores) -> None:
    realism = REALISM_WORDS.search(text) is not None
    if PUBLIC_NAMES.search(text):
        if realism:
            found.raise_to(PUBLIC_FIGURE, 1.0, "public-name+realism")
        elif NOT_REALISTIC_WORDS.search(text) is None:
            found.raise_to(PUBLIC_FIGURE, NAME_ONLY_SCORE, "public-name")
    elif realism and OFFICE_WORDS.search(text):
        found.raise_to(PUBLIC_FIGURE, 1.0, "office+realism")


# The semantic sexual score from which a minor word makes a text sexual content with minors:
# below every preset's sexual threshold, as this category is refused everywhere.
SEXUAL_WITH_MINOR = 0.5
# A public figure's name without a cue either way: a video model draws them realistically.
NAME_ONLY_SCORE = 0.8
