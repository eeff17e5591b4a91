"""Analytics and recommendations over the data lake, on DuckDB (default) or Spark.

definitions.py holds every analytic once (DuckDB SQL); engines.py/spark_engine.py run it;
job.py writes the results to Kafka and the lake; evaluation.py measures the recommender
against a popularity baseline on a time-split holdout.
"""
