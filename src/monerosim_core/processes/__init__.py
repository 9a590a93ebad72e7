"""The processes of a run: what to run (``specs``), running and stopping them
(``supervisor``), finding any that outlived their parent (``leftovers``)."""
