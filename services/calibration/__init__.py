"""Calibration: measuring the capacity the scenario will meet, with the requests the load
generator offers, through one open-loop driver (also the benchmarks' driver). In the image,
so that it can run where the database runs."""
