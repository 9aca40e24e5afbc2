"""A small, strict HTTP/1.1 server and pooled client on trio, used by the actors.

``sansio/`` parses and frames (pure: no trio, no sockets); ``server`` serves the ingress,
``client`` is the provider workers' upstream pool. Nothing here imports the gateway.
"""
