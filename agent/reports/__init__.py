"""Member reports: a member quotes a message and writes 举报 / /report / "report" (a reason optional);
the owners get a case file privately, the reporter a private thank-you, the group nothing."""
