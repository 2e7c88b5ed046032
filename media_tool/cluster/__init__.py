"""Building on a Ray cluster: the model stages' work on workers that keep their models loaded
(`worker`), sent there by the driver (`pool`). Optional: nothing here is imported without --ray."""
