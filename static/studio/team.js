// The notification bell and the browser's own notifications.
