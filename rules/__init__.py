"""Rules of a Section 75 agreement, as Beancount plugins driven by `custom "s75-..."` directives."""
