"""C2PA manifests: signing a finished MP4 and reading one back (c2pa-python, fully offline).

A clip is signed as `c2pa.created` with the digital source type trainedAlgorithmicMedia and a
clipcrew assertion (`org.clipcrew.clip`: clip number, job, engine, model, the prompt's SHA-256,
the consenting cameos' handles). A remix is signed with the edit intent and its parent clip as
the `parentOf` ingredient, so the parent's own manifest travels inside it. Signing must be the
very last step: any remux or re-encode drops the manifest.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any

from engine.provenance.config import ProvenanceConfig
from engine.provenance.keys import ensure_own_ca, own_ca
from engine.request import EngineError

if TYPE_CHECKING:
    import c2pa

ASSERTION = "org.clipcrew.clip"
MIME = "video/mp4"
SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
# Extended key usages a signing certificate may carry: emailProtection (clipcrew's own CA),
# documentSigning and the C2PA one (an operator's certificate from a C2PA-conformant CA).
_EKUS = "1.3.6.1.5.5.7.3.4\n1.3.6.1.5.5.7.3.36\n1.3.6.1.4.1.62558.2.1\n"
# Bytes kept free under an upload limit for the manifest.
MANIFEST_ROOM = 32 * 1024
# Validation states c2pa reports for a manifest whose signature and hashes check out.
GOOD_STATES = ("Valid", "Trusted")


class ProvenanceError(EngineError):
    """Signing failed, or the signing credentials are unusable."""


@dataclass(frozen=True)
class ClipInfo:
    """What a clip's manifest says about it."""

    clip_id: int | None
    job_id: str
    engine: str
    model: str
    prompt_sha256: str
    cameos: tuple[str, ...] = ()
    parent_clip_id: int | None = None

    def assertion(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "clip": self.clip_id,
            "job": self.job_id,
            "engine": self.engine,
            "model": self.model,
            "prompt_sha256": self.prompt_sha256,
            "cameos": list(self.cameos),
        }
        if self.parent_clip_id is not None:
            data["parent_clip"] = self.parent_clip_id
        return data

    @classmethod
    def from_assertion(cls, data: dict[str, Any]) -> ClipInfo:
        return cls(
            clip_id=data.get("clip"),
            job_id=str(data.get("job", "")),
            engine=str(data.get("engine", "")),
            model=str(data.get("model", "")),
            prompt_sha256=str(data.get("prompt_sha256", "")),
            cameos=tuple(str(c) for c in data.get("cameos", ())),
            parent_clip_id=data.get("parent_clip"),
        )


@dataclass(frozen=True)
class ClipSigner:
    """Signing credentials, read once per worker: the chain (signing certificate first), its
    key, the anchors readers should trust, and the optional timestamp authority."""

    chain_pem: bytes
    key_pem: bytes
    anchors_pem: bytes
    tsa_url: str | None = None


def load_signer(config: ProvenanceConfig) -> ClipSigner | None:
    """The configured signer, making clipcrew's own CA first when that is the choice; None when
    signing is off. Raises ProvenanceError naming the file that cannot be read."""
    if config.cert_chain is not None and config.key is not None:
        chain, key = config.cert_chain, config.key
        anchors = _last_certificate(_read(chain))
    elif config.own_ca_dir is not None:
        own = ensure_own_ca(config.own_ca_dir)
        chain, key, anchors = own.chain, own.key, _read(own.ca)
    else:
        return None
    signer = ClipSigner(_read(chain), _read(key), anchors, config.tsa_url)
    _check_usable(signer)
    return signer


def trust_anchors(config: ProvenanceConfig) -> bytes:
    """The certificates a reader should trust for this deployment's clips: the operator's root
    (the chain's last certificate) and clipcrew's own CA where it exists. Creates nothing."""
    anchors = b""
    if config.cert_chain is not None and config.cert_chain.exists():
        anchors += _last_certificate(_read(config.cert_chain))
    if config.own_ca_dir is not None:
        ca = own_ca(config.own_ca_dir).ca
        if ca.exists():
            anchors += _read(ca)
    return anchors


def room_for_manifest(target_bytes: int | None, signer: ClipSigner | None) -> int | None:
    """The size to encode for, so that the signed clip still fits `target_bytes`: a manifest
    takes about 4 KB (a remix's, with its parent's inside, about 10 KB)."""
    if target_bytes is None or signer is None:
        return target_bytes
    return target_bytes - min(MANIFEST_ROOM, target_bytes // 10)


def _read(path: Any) -> bytes:
    try:
        return bytes(path.read_bytes())
    except OSError as error:
        raise ProvenanceError(f"Cannot read the C2PA signing file {path}: {error}.") from error


def _last_certificate(chain: bytes) -> bytes:
    marker = b"-----BEGIN CERTIFICATE-----"
    start = chain.rfind(marker)
    return chain[start:] if start >= 0 else b""


def _check_usable(signer: ClipSigner) -> None:
    try:
        _c2pa_signer(signer)
    except Exception as error:
        raise ProvenanceError(f"The C2PA certificate or key is unusable: {error}.") from error


def _algorithm(key_pem: bytes) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(key_pem, password=None)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {256: "es256", 384: "es384", 521: "es512"}[key.curve.key_size]
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    raise ProvenanceError("The C2PA key must be an EC (P-256/384/521), RSA or Ed25519 key.")


def _c2pa_signer(signer: ClipSigner) -> c2pa.Signer:
    import c2pa

    tsa = signer.tsa_url.encode() if signer.tsa_url else None
    info = c2pa.C2paSignerInfo(_algorithm(signer.key_pem), signer.chain_pem, signer.key_pem, tsa)
    return c2pa.Signer.from_info(info)


def _context(anchors_pem: bytes | None) -> c2pa.Context:
    """Reading and signing without the network (no remote manifests, no OCSP), trusting
    `anchors_pem` and accepting the signing-certificate usages above."""
    import c2pa

    trust: dict[str, str] = {"trust_config": _EKUS}
    if anchors_pem:
        trust["user_anchors"] = anchors_pem.decode()
    settings = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}, "trust": trust}
    return c2pa.Context(c2pa.Settings.from_dict(settings))


def _manifest(info: ClipInfo) -> dict[str, Any]:
    title = f"clipcrew clip {info.clip_id}" if info.clip_id is not None else "clipcrew clip"
    return {
        "claim_generator_info": [{"name": "clipcrew", "version": _version()}],
        "title": title,
        "format": MIME,
        "assertions": [{"label": ASSERTION, "data": info.assertion()}],
    }


def _version() -> str:
    try:
        return metadata.version("clipcrew")
    except metadata.PackageNotFoundError:
        return "0"


def sign_clip(
    data: bytes, info: ClipInfo, signer: ClipSigner, *, parent: bytes | None = None
) -> bytes:
    """The MP4 `data` with a signed C2PA manifest embedded. With `parent` (the parent clip's
    file) it is signed as a remix of it: the edit intent, the parent as the `parentOf`
    ingredient. Call it last: any later remux or re-encode drops the manifest."""
    if parent is None:
        return _sign(data, info, signer)
    edit = _Edit(
        parent=parent,
        parent_title=f"clipcrew clip {info.parent_clip_id}",
        action="c2pa.edited",
        description=f"remix of clipcrew clip {info.parent_clip_id}",
    )
    return _sign(data, info, signer, edit)


def sign_refit(original: bytes, fitted: bytes, signer: ClipSigner) -> bytes:
    """Sign `fitted`, a re-encode of the signed clip `original` (to fit an upload limit), with
    the same clipcrew assertion and the original as its `parentOf` ingredient. An original
    without a valid clipcrew manifest gives `fitted` back unchanged."""
    report = read_manifest(original, signer.anchors_pem)
    if report is None or not report.valid or report.clip is None:
        return fitted
    edit = _Edit(
        parent=original,
        parent_title=report.title,
        action="c2pa.transcoded",
        description="re-encoded to fit a chat's upload limit",
    )
    return _sign(fitted, report.clip, signer, edit)


@dataclass(frozen=True)
class _Edit:
    parent: bytes
    parent_title: str
    action: str
    description: str


def _sign(data: bytes, info: ClipInfo, signer: ClipSigner, edit: _Edit | None = None) -> bytes:
    import c2pa

    try:
        builder = c2pa.Builder(_manifest(info), context=_context(signer.anchors_pem))
        if edit is None:
            builder.set_intent(
                c2pa.C2paBuilderIntent.CREATE,
                c2pa.C2paDigitalSourceType.TRAINED_ALGORITHMIC_MEDIA,
            )
        else:
            # A parent ingredient needs the edit intent ("first action must be created or
            # opened" otherwise); c2pa adds the `c2pa.opened` action for it.
            builder.set_intent(c2pa.C2paBuilderIntent.EDIT)
            builder.add_ingredient(
                {"title": edit.parent_title, "relationship": "parentOf"},
                MIME,
                io.BytesIO(edit.parent),
            )
            action = {"action": edit.action, "description": edit.description}
            if edit.action == "c2pa.edited":
                action["digitalSourceType"] = SOURCE_TYPE
            builder.add_action(action)
        out = io.BytesIO()
        builder.sign(_c2pa_signer(signer), MIME, io.BytesIO(data), out)
    except c2pa.C2paError as error:
        raise ProvenanceError(f"Could not sign the clip: {error}.") from error
    return out.getvalue()


@dataclass(frozen=True)
class ManifestReport:
    """What a file's active C2PA manifest says, and whether it checks out."""

    state: str
    # The signature and every hash check out (trusted or not).
    valid: bool
    # ...and the signing certificate chains to a trusted anchor.
    trusted: bool
    title: str
    actions: tuple[str, ...]
    source_types: tuple[str, ...]
    ingredients: tuple[str, ...]
    issuer: str
    failures: tuple[str, ...]
    # The clipcrew assertion, when the manifest has one.
    clip: ClipInfo | None


def read_manifest(data: bytes, anchors_pem: bytes | None = None) -> ManifestReport | None:
    """The active manifest of the MP4 `data`, validated; None when it carries none."""
    import c2pa

    try:
        reader = c2pa.Reader(MIME, io.BytesIO(data), context=_context(anchors_pem))
    except c2pa.C2paError:
        return None
    with reader:
        state = str(reader.get_validation_state())
        store = json.loads(reader.json())
        results = reader.get_validation_results() or {}
    active = store.get("manifests", {}).get(store.get("active_manifest"), {})
    actions = [
        action
        for assertion in active.get("assertions", ())
        if str(assertion.get("label", "")).startswith("c2pa.actions")
        for action in assertion.get("data", {}).get("actions", ())
    ]
    mine = [a.get("data", {}) for a in active.get("assertions", ()) if a.get("label") == ASSERTION]
    failures = results.get("activeManifest", {}).get("failure", ())
    return ManifestReport(
        state=state,
        valid=state in GOOD_STATES,
        trusted=state == "Trusted",
        title=str(active.get("title", "")),
        actions=tuple(str(a.get("action")) for a in actions),
        source_types=tuple(
            str(a["digitalSourceType"]) for a in actions if "digitalSourceType" in a
        ),
        ingredients=tuple(
            f"{i.get('relationship', '')}: {i.get('title', '')}"
            for i in active.get("ingredients", ())
        ),
        issuer=str(active.get("signature_info", {}).get("common_name", "")),
        failures=tuple(str(f.get("code")) for f in failures),
        clip=ClipInfo.from_assertion(mine[0]) if mine else None,
    )
