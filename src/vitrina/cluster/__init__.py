"""The distributed half run natively: Apache Kafka, MirrorMaker 2 and friends from Maven jars."""
