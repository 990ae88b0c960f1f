"""Few-shot image databases (Omniglot, mini-ImageNet) stored as decoded uint8 arrays."""
from databases.base import Database, Split, find_data_dir, get_database

__all__ = ["Split", "Database", "get_database", "find_data_dir"]
