"""Tresen: order-and-pay backend. Importing the package is cheap; heavy clients load lazily."""
