// A click on a [n] marker in any answer opens that passage in the side panel. The chat's HTML
// sanitiser keeps only safe attributes (class, href, title), so the marker says which passage it
// means in its href (#cited-<answer>-<n>), and the click is handed to the server through a hidden
// textbox and button: the passages of every answer live in the session there, not in the page.
document.addEventListener(
  "click",
  (event) => {
    const marker = event.target instanceof Element && event.target.closest("a.cited-marker");
    if (!marker) return;
    const wanted = /^#cited-(\d+)-(\d+)$/.exec(marker.getAttribute("href") || "");
    if (!wanted) return;
    event.preventDefault();
    event.stopPropagation();
    const box = document.querySelector("#cited-open-ref textarea, #cited-open-ref input");
    const open = document.querySelector("#cited-open");
    if (!box || !open) return;
    box.value = `${wanted[1]}-${wanted[2]}`;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    open.click();
  },
  true,
);
