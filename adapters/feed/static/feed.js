// The feed's little script: clips play muted while in view and pause when scrolled away; a tap
// turns the sound on (and plays), another pauses. "Copy" puts the remix command on the clipboard.

const videos = [...document.querySelectorAll("video.clip-video")];

function toggle(video) {
  const button = video.parentElement.querySelector(".sound");
  if (video.paused || video.muted) {
    video.muted = false;
    video.play().catch(() => {});
  } else {
    video.pause();
  }
  if (button) {
    button.hidden = false;
    button.textContent = video.muted ? "🔇" : "🔊";
    button.setAttribute("aria-label", video.muted ? "Sound on" : "Sound off");
  }
}

for (const video of videos) {
  video.addEventListener("click", () => toggle(video));
  const button = video.parentElement.querySelector(".sound");
  button?.addEventListener("click", () => toggle(video));
}

if ("IntersectionObserver" in window) {
  const watcher = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      const video = entry.target;
      if (entry.isIntersecting && entry.intersectionRatio >= 0.6) {
        // Muted playback is allowed without a tap, like the apps people know.
        if (video.paused) video.play().catch(() => {});
      } else if (!video.paused) {
        video.pause();
      }
    }
  }, { threshold: [0, 0.6] });
  for (const video of videos) watcher.observe(video);
}

for (const button of document.querySelectorAll("button.copy")) {
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(button.dataset.copy);
      button.textContent = "Copied";
    } catch {
      // No clipboard (a plain-http address): select the command so it can be copied by hand.
      const code = button.parentElement.querySelector("code");
      window.getSelection().selectAllChildren(code);
    }
  });
}
