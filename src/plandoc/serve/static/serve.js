// plandoc serve: live reload (server-sent events) keeping the scroll position, and copy buttons.
"use strict";

function copyButtons(root) {
  for (const button of root.querySelectorAll("button.copy")) {
    button.addEventListener("click", () => {
      navigator.clipboard.writeText(button.dataset.text).then(() => {
        button.textContent = "copied";
      });
    });
  }
}

// The problems beside the document, the layouts and the downloads, as the server now has them.
function replaceParts(fresh) {
  for (const part of ["aside", "nav.downloads", "nav.layouts"]) {
    const old = document.querySelector(part);
    const replacement = fresh.querySelector(part);
    if (old && replacement) {
      old.replaceWith(document.importNode(replacement, true));
    }
  }
  copyButtons(document);
}

function frameScroll(frame) {
  try {
    return [frame.contentWindow.scrollX, frame.contentWindow.scrollY];
  } catch (error) {
    return [0, 0];
  }
}

async function refresh() {
  const response = await fetch(window.location.href, { credentials: "same-origin" });
  if (!response.ok) {
    return;
  }
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  const oldMain = document.querySelector("[data-live]");
  const newMain = fresh.querySelector("[data-live]");
  if (!oldMain || !newMain) {
    return;
  }
  document.body.dataset.generation = fresh.body.dataset.generation;
  const oldFrame = oldMain.querySelector("iframe.document");
  const newFrame = newMain.querySelector("iframe.document");
  if (oldFrame && newFrame) {
    // Load the new document out of sight, then put it where the old one was, scrolled alike.
    const [x, y] = frameScroll(oldFrame);
    oldFrame.after(document.importNode(newFrame, true));
    const placed = oldFrame.nextElementSibling;
    Object.assign(placed.style, {
      visibility: "hidden", position: "absolute",
      width: `${oldFrame.offsetWidth}px`, height: `${oldFrame.offsetHeight}px`,
    });
    placed.addEventListener("load", () => {
      placed.contentWindow.scrollTo(x, y);
      placed.removeAttribute("style");
      oldFrame.remove();
      replaceParts(fresh);
    }, { once: true });
    return;
  }
  const scroll = [window.scrollX, window.scrollY];
  oldMain.replaceWith(document.importNode(newMain, true));
  replaceParts(fresh);
  window.scrollTo(scroll[0], scroll[1]);
}

copyButtons(document);
if (document.body.dataset.generation !== undefined) {
  const events = new EventSource("/events");
  events.addEventListener("message", (event) => {
    if (event.data !== document.body.dataset.generation) {
      refresh();
    }
  });
}
