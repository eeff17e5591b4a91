"""Analytics and recommendations over the data lake, on DuckDB (default) or Spark.

definitions.py holds every analytic once (DuckDB SQL), except the recommender's two heavy
steps, model.py (scipy sparse products, shared by both engines); engines.py/spark_engine.py
run them;
job.py writes the results to Kafka and the lake; evaluation.py measures the recommender
against a popularity baseline on a time-split holdout.
"""
