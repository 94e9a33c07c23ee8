# The presenter view.
present-terminal-of = { $name }'s terminal (read-only)
present-end-spotlight = End spotlight
present-elapsed = Elapsed
present-planned = Planned to here
present-of = { $part } of { $whole }
present-this-slide = This slide
present-next-button = Next →
present-next = Next
present-end-of-deck = End of the deck.
present-notes = Notes
present-no-notes = No notes for this slide.
