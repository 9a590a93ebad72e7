"""The plugin system: hook specifications (the contract), the host that loads
plugins and calls strategies by name, and the built-in discovery plugin.

Plugin authors import from :mod:`monerosim_core` itself (``hookimpl``,
``SelectionContext``, ``Miner``, ``Agent``, ``SelectionError``) and test with
:mod:`monerosim_core.testing`.
"""
