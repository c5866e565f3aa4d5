"""The operator's blocklist across their managed groups: a member an owner removes for a scam or an ad
(or whose case an owner decides as kick) is listed with the reason and the evidence's message ids;
where that contact joins or speaks in another managed group, its owners get a case at once, or the
member is removed where the group says `blocklist: auto_kick` (never for an imported entry)."""
