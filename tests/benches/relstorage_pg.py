"""RelStorage on PostgreSQL: the baseline of `tests/benches/postgres.rs`.

Run by that bench (with PERSISTENT_BENCH_PYTHON set to a Python that has RelStorage,
psycopg2-binary, ZODB and BTrees) as `relstorage_pg.py DSN N`, against the same cluster.
History-preserving RelStorage (as PostgresStorage is), no local or memcache client cache,
so loads reach the server as ours do. Workloads, each median of 3:

* bulk: commit N new Items (int, str, float) held by an IOBTree in one transaction;
* activate: in a fresh storage and connection, load the container's N ghosts, then time
  `o.a` on each (one storage load per object);
* small: 500 transactions each changing one attribute of one object.
"""

import statistics
import sys
import time

import transaction
import ZODB
from BTrees.IOBTree import IOBTree
from persistent import Persistent
from relstorage.adapters.postgresql import PostgreSQLAdapter
from relstorage.options import Options
from relstorage.storage import RelStorage


class Item(Persistent):
    def __init__(self, i=0):
        self.a = i
        self.b = "s%d" % i
        self.c = i * 0.5


def open_db(dsn, n):
    options = Options(keep_history=True, cache_local_mb=0, shared_blob_dir=False)
    adapter = PostgreSQLAdapter(dsn=dsn, options=options)
    storage = RelStorage(adapter, options=options)
    return ZODB.DB(storage, cache_size=2 * n)


def main():
    dsn, n = sys.argv[1], int(sys.argv[2])
    bulk, activate, small = [], [], []
    for rep in range(3):
        db = open_db(dsn, n)
        tm = transaction.TransactionManager()
        conn = db.open(transaction_manager=tm)
        root = conn.root()
        tree = IOBTree()
        for i in range(n):
            tree[i] = Item(i)
        root["objs%d" % rep] = tree
        t0 = time.perf_counter()
        tm.commit()
        bulk.append(time.perf_counter() - t0)
        conn.close()
        db.close()

        db = open_db(dsn, n)
        tm = transaction.TransactionManager()
        conn = db.open(transaction_manager=tm)
        objs = list(conn.root()["objs%d" % rep].values())
        t0 = time.perf_counter()
        for o in objs:
            o.a
        activate.append(time.perf_counter() - t0)
        obj = objs[0]
        t0 = time.perf_counter()
        for i in range(500):
            obj.a = i
            tm.commit()
        small.append(time.perf_counter() - t0)
        conn.close()
        db.close()
    b, a, s = statistics.median(bulk), statistics.median(activate), statistics.median(small)
    print("RelStorage (PostgreSQL, history-preserving, no client cache), N=%d:" % n)
    print("  bulk commit of %d new objects: %.3f s = %.0f objects/s" % (n, b, n / b))
    print("  ghost loads from a fresh connection: %.1f us/object" % (a / n * 1e6))
    print("  1-object transactions: %.0f tps" % (500 / s))


if __name__ == "__main__":
    main()
