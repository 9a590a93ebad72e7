"""Withholding mining behaviours for monerosim.

* ``selfish`` (:mod:`.sm1`): Eyal and Sirer's SM1, "Majority is not enough" (2014).
* ``lead_stubborn`` (:mod:`.lead_stubborn`): Nayak, Kumar, Miller and Shi's
  lead-stubborn mining, "Stubborn mining" (2016).

:mod:`.theory` has Eyal and Sirer's closed form for SM1's relative revenue.
"""
