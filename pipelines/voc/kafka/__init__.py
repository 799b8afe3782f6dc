"""Kafka for VOC Loop: the project's local broker, its topics, a file producer
and a batch consumer for the pipeline's Kafka source.

    broker   start / stop / status of a single-node KRaft broker under .voc/kafka
    topics   the topic names and their partitions and retention
    produce  publish stream files (or the help-desk log replay) to the topics
    consume  per-partition batches with manual commits, and the raw read rate
"""
