"""Optional SQLite database of the service: migrations and favorites.

APP_DB names the database file.  At start the service applies the
migrations app/migrations/NNN_name.sql that are not yet recorded in
schema_migrations, in order, each in one transaction (a failing one is
rolled back whole and stops the start).  Every request opens its own
connection, so the threaded server shares nothing.  It knows no ORM and
never rewrites a migration that was applied.
"""
import datetime
import os
import re
import sqlite3
from contextlib import closing

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "migrations")
MIGRATION_NAME = re.compile(r"^(\d{3})_[A-Za-z0-9_-]+\.sql$")
BUSY_TIMEOUT = 30  # seconds: instances starting together take turns


class DatabaseError(Exception):
    """The database cannot be opened, read or migrated."""


def list_migrations(directory=MIGRATIONS_DIR):
    """[(version, file name, path)] of NNN_name.sql files, by version."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise DatabaseError("cannot list migrations in '%s': %s"
                            % (directory, exc)) from exc
    found = {}
    for name in sorted(names):
        match = MIGRATION_NAME.match(name)
        if not match:
            continue
        version = match.group(1)
        if version in found:
            raise DatabaseError("two migrations with version %s: '%s' and "
                                "'%s'" % (version, found[version][1], name))
        found[version] = (version, name, os.path.join(directory, name))
    return [found[v] for v in sorted(found)]


def split_statements(sql):
    """The statements of a SQL script, one string each (sqlite3 rules)."""
    statements, pending = [], ""
    for piece in sql.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            text = pending.strip()
            if _has_code(text):
                statements.append(text)
            pending = ""
    if _has_code(pending[:-1]):
        raise DatabaseError("incomplete SQL statement at the end: '%s'"
                            % pending[:-1].strip()[:60])
    return statements


def _has_code(text):
    """Whether @text holds more than blanks, ';' and '--' comments."""
    for line in text.splitlines():
        line = line.split("--", 1)[0].strip().strip(";").strip()
        if line:
            return True
    return False


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


class Database:
    """The SQLite file at @path; every call opens its own connection."""

    def __init__(self, path):
        self.path = path

    def connect(self):
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT,
                                   isolation_level=None)
        except sqlite3.Error as exc:
            raise DatabaseError("cannot open database '%s': %s"
                                % (self.path, exc)) from exc
        conn.row_factory = sqlite3.Row
        return conn

    def migrate(self, directory=MIGRATIONS_DIR):
        """Apply the pending migrations; return the versions applied."""
        migrations = list_migrations(directory)
        applied = []
        with closing(self.connect()) as conn:
            try:
                conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                             "(version TEXT PRIMARY KEY, applied_at TEXT)")
            except sqlite3.Error as exc:
                raise DatabaseError("cannot use database '%s': %s"
                                    % (self.path, exc)) from exc
            for version, name, path in migrations:
                if self._apply(conn, version, name, path):
                    applied.append(version)
        return applied

    def _apply(self, conn, version, name, path):
        try:
            with open(path, encoding="utf-8") as fh:
                statements = split_statements(fh.read())
        except (OSError, UnicodeDecodeError) as exc:
            raise DatabaseError("cannot read migration '%s': %s"
                                % (name, exc)) from exc
        except DatabaseError as exc:
            raise DatabaseError("migration '%s': %s" % (name, exc)) from exc
        try:
            # the write lock first: another instance may be migrating
            conn.execute("BEGIN IMMEDIATE")
            done = conn.execute("SELECT 1 FROM schema_migrations "
                                "WHERE version = ?", (version,)).fetchone()
            if done:
                conn.execute("COMMIT")
                return False
            for statement in statements:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations (version, "
                         "applied_at) VALUES (?, ?)", (version, _now()))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise DatabaseError("migration '%s' failed and was rolled back: "
                                "%s" % (name, exc)) from exc
        return True

    def versions(self):
        """The versions recorded in schema_migrations, in order."""
        return [row["version"] for row in self._query(
            "SELECT version FROM schema_migrations ORDER BY version")]

    def check(self):
        """Raise DatabaseError unless the database can be read."""
        self._query("SELECT count(*) FROM schema_migrations")

    def favorites(self):
        """Every favorite, by id, as dicts."""
        return [dict(row) for row in self._query(
            "SELECT id, brewery_id, note FROM favorites ORDER BY id")]

    def _query(self, sql):
        try:
            with closing(self.connect()) as conn:
                return conn.execute(sql).fetchall()
        except sqlite3.Error as exc:
            raise DatabaseError("cannot read database '%s': %s"
                                % (self.path, exc)) from exc


def open_database(path, directory=MIGRATIONS_DIR):
    """The Database at @path, migrated; (database, versions applied)."""
    db = Database(path)
    applied = db.migrate(directory)
    db.check()
    return db, applied
