// Review: comments pinned to the player's moment, marks on the timeline, synchronised compare.
