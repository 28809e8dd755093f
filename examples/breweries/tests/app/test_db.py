import os
import shutil
import sqlite3

import pytest

from app import db as appdb
from app import server
from app.db import Database, DatabaseError, open_database
from app.store import Store
from tests.conftest import DATA_CSV

FIRST = os.path.join(appdb.MIGRATIONS_DIR, "001_favorites.sql")


@pytest.fixture
def migrations(tmp_path):
    """A migrations directory holding only the shipped 001."""
    directory = tmp_path / "migrations"
    directory.mkdir()
    shutil.copy(FIRST, str(directory))
    return directory


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "app.db")


def rows(path, sql):
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def test_first_migration_creates_twelve_favorites(db_path, migrations):
    db, applied = open_database(db_path, str(migrations))
    assert applied == ["001"]
    assert db.versions() == ["001"]
    favorites = db.favorites()
    assert len(favorites) == 12
    assert favorites[0] == {"id": 1, "brewery_id": favorites[0]["brewery_id"],
                            "note": favorites[0]["note"]}
    (version, applied_at), = rows(db_path, "SELECT * FROM schema_migrations")
    assert version == "001" and applied_at.endswith("Z")


def test_favorites_are_breweries_of_the_data_set(db_path, migrations):
    db, _ = open_database(db_path, str(migrations))
    known = {b["id"] for b in Store.from_csv(DATA_CSV).breweries}
    assert {f["brewery_id"] for f in db.favorites()} <= known


def test_migrations_apply_once(db_path, migrations):
    open_database(db_path, str(migrations))
    db, applied = open_database(db_path, str(migrations))  # a restart
    assert applied == []
    assert len(db.favorites()) == 12
    assert rows(db_path, "SELECT count(*) FROM schema_migrations") == [(1,)]


def test_a_later_migration_is_applied_on_the_next_start(db_path, migrations):
    open_database(db_path, str(migrations))
    (migrations / "002_starred.sql").write_text(
        "-- a flag; with a ';' in this comment\n"
        "ALTER TABLE favorites ADD COLUMN starred INTEGER NOT NULL "
        "DEFAULT 0;\n"
        "UPDATE favorites SET starred = 1, note = note || '; starred' "
        "WHERE id <= 3;\n\n-- the end\n")
    db, applied = open_database(db_path, str(migrations))
    assert applied == ["002"]
    assert db.versions() == ["001", "002"]
    assert rows(db_path, "SELECT count(*) FROM favorites "
                         "WHERE starred = 1 AND note LIKE '%; starred'") \
        == [(3,)]


def test_bad_sql_rolls_back_the_whole_migration(db_path, migrations):
    open_database(db_path, str(migrations))
    (migrations / "002_broken.sql").write_text(
        "DELETE FROM favorites;\n"
        "CREATE TABLE visits (id INTEGER PRIMARY KEY);\n"
        "INSERT INTO nowhere VALUES (1);\n")
    with pytest.raises(DatabaseError,
                       match="migration '002_broken.sql' failed and was "
                             "rolled back: no such table: nowhere"):
        open_database(db_path, str(migrations))
    db = Database(db_path)
    assert db.versions() == ["001"]
    assert len(db.favorites()) == 12
    assert rows(db_path, "SELECT name FROM sqlite_master "
                         "WHERE name = 'visits'") == []


def test_an_incomplete_statement_is_refused(db_path, migrations):
    (migrations / "002_cut.sql").write_text(
        "UPDATE favorites SET note = 'it''s cut")
    with pytest.raises(DatabaseError, match="002_cut.sql.*incomplete"):
        open_database(db_path, str(migrations))
    assert Database(db_path).versions() == ["001"]


def test_split_statements():
    script = ("CREATE TABLE t (a TEXT);\nINSERT INTO t VALUES ('x;y');\n"
              "-- done;\n")
    assert appdb.split_statements(script) == [
        "CREATE TABLE t (a TEXT);", "INSERT INTO t VALUES ('x;y');"]
    assert appdb.split_statements("SELECT 1") == ["SELECT 1;"]
    assert appdb.split_statements("  \n-- nothing\n;;") == []


def test_list_migrations(tmp_path):
    for name in ("010_b.sql", "002_a.sql", "notes.txt", "3_short.sql"):
        (tmp_path / name).write_text("SELECT 1;")
    assert [(v, n) for v, n, _ in appdb.list_migrations(str(tmp_path))] \
        == [("002", "002_a.sql"), ("010", "010_b.sql")]
    assert appdb.list_migrations(str(tmp_path / "none")) == []
    (tmp_path / "002_again.sql").write_text("SELECT 1;")
    with pytest.raises(DatabaseError, match="two migrations with version "
                                            "002"):
        appdb.list_migrations(str(tmp_path))


def test_every_shipped_migration_applies(db_path):
    files = sorted(n for n in os.listdir(appdb.MIGRATIONS_DIR)
                   if n.endswith(".sql"))
    db, applied = open_database(db_path)
    assert applied == [n[:3] for n in files]
    assert db.versions() == applied


def test_unreadable_database(tmp_path, migrations):
    junk = tmp_path / "junk.db"
    junk.write_text("this is not a database\n" * 100)
    with pytest.raises(DatabaseError, match="file is not a database"):
        open_database(str(junk), str(migrations))
    with pytest.raises(DatabaseError, match="cannot open database"):
        open_database(str(tmp_path / "no" / "dir.db"), str(migrations))


def test_reads_fail_cleanly(tmp_path):
    db = Database(str(tmp_path / "empty.db"))
    with pytest.raises(DatabaseError, match="no such table"):
        db.favorites()


# the HTTP side: /favorites and /health with and without a database

@pytest.fixture
def store():
    return Store.from_csv(DATA_CSV)


def test_favorites_without_database(store):
    assert server.route("GET", "/favorites", store, "1") == (
        404, {"error": "no database configured"})


def test_favorites_with_database(store, db_path, migrations):
    db, _ = open_database(db_path, str(migrations))
    status, body = server.route("GET", "/favorites/", store, "1", db=db)
    assert status == 200
    assert body["count"] == 12 and len(body["items"]) == 12
    assert set(body["items"][0]) == {"id", "brewery_id", "note"}


def test_health_with_database(store, db_path, migrations):
    db, _ = open_database(db_path, str(migrations))
    assert server.route("GET", "/health", store, "1", db=db) == (
        200, {"status": "ok", "version": "1", "db": "ok"})
    os.remove(db_path)
    os.mkdir(db_path)  # the file is gone and cannot be made again
    status, body = server.route("GET", "/health", store, "1", db=db)
    assert status == 503
    assert body["status"] == "error" and "cannot" in body["db"]
    status, body = server.route("GET", "/favorites", store, "1", db=db)
    assert status == 503 and "cannot" in body["error"]


def test_main_migrates_and_reports(db_path, migrations, tmp_path, capsys):
    env = {"PORT": "0", "APP_DB": db_path}
    assert server.main(env, serve=False, fault_file=str(tmp_path / "no"),
                       migrations=str(migrations)) == 0
    assert "at version 001 (1 migration(s) applied now)" \
        in capsys.readouterr().out
    assert server.main(env, serve=False, fault_file=str(tmp_path / "no"),
                       migrations=str(migrations)) == 0
    assert "(0 migration(s) applied now)" in capsys.readouterr().out


def test_main_exits_2_on_a_bad_migration(db_path, migrations, tmp_path,
                                         capsys):
    (migrations / "002_typo.sql").write_text("CREAT TABLE x (a);\n")
    assert server.main({"PORT": "0", "APP_DB": db_path}, serve=False,
                       fault_file=str(tmp_path / "no"),
                       migrations=str(migrations)) == 2
    err = capsys.readouterr().err
    assert "breweries: error: migration '002_typo.sql' failed" in err
    assert "syntax error" in err


def test_main_exits_2_on_an_unreadable_database(tmp_path, capsys):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\0garbage" * 512)
    assert server.main({"PORT": "0", "APP_DB": str(junk)}, serve=False,
                       fault_file=str(tmp_path / "no")) == 2
    assert "breweries: error: cannot use database" in capsys.readouterr().err
