"""The node's SQLite database: schema and migrations, and every SQL statement."""
