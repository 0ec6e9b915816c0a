// The notification bell in the top bar of every page of a team (notifications.html#bell) refreshes itself
// through htmx. When its count rose, it comes back with
// the newest unread notification, which the browser shows too while the studio is open (if allowed).
document.addEventListener("htmx:load", (event) => {
  const bell = event.target;
  if (!(bell instanceof Element) || bell.id !== "bell") return;
  const { newestText: text, newestUrl: url, newestId: id } = bell.dataset;
  if (!text || !("Notification" in window) || Notification.permission !== "granted") return;
  // The tag makes several open tabs of the studio show one notification, not one each.
  const shown = new Notification(text, { tag: id });
  shown.onclick = () => {
    window.focus();
    if (url) window.location.href = url;
    shown.close();
  };
});
