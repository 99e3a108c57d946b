"""billy: the one place between product teams and money.

Layers (checked by import-linter in the test command):
  api (HTTP, gRPC, admin actions) -> operations / queries of the domain apps -> models;
  integrations (Balance, ...) know no domain app; core is shared by everyone.
"""
