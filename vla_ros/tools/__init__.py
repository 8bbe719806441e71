"""Developer tools: process supervision, demo, benchmarks helpers (no rclpy at import)."""
