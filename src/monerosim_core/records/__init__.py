"""What a run writes and reads back: the run directory (``layout``, every file name
once), the typed records (``schema``), the registries (``registry``), and the
crash-safe files under them (``files``, ``codec``)."""
