"""An installed app whose consumers no routing list imports: found by autodiscovery only."""
