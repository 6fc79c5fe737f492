"""How Spark runs here, apart from the jobs (spark_jobs/): the session and its JVM options,
the driver's class-data archive (make setup), and the standalone test cluster."""
