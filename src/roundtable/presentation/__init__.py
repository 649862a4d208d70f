"""How an event reads to one person, in their language and on their clock: page, mail, calendar."""
