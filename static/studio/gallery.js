// The team gallery: hover previews, selection, filters and infinite scroll.
