"""New-member probation: a member the bot saw join is moderated more strictly for their first messages
and days, is asked to agree to the rules, and leaves probation early when an owner vouches for them."""
