"""Signals for what other apps keep derived from closures (a lower app never imports a higher one).

- ``recategorised(sender=Closure, old=, new=, using=)``: a category merge moved every closure of
  category ``old`` to ``new`` (closures.writes.recategorise), inside its transaction.
"""

from django.dispatch import Signal

recategorised = Signal()
