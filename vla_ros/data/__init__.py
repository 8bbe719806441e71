"""Recorded data: MCAP bags, replay through the sync core, recording and demonstrations."""
