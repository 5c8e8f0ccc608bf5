"""moto's server, answering one request at a time.

DynamoDB applies conditional writes to an item one at a time; moto's own
`moto_server` runs threaded and does not, so two concurrent conditional
writes can both succeed there. Serving one request at a time gives the tests
DynamoDB's guarantee. Same arguments as `moto_server`: -H HOST -p PORT.

With EARSHOT_MOTO_ROLLBACK=touched, a transaction backs up only the items
it writes (see `back_up_touched_items_only`); the load benchmark needs it.
"""

import argparse
import copy
import os
from collections import defaultdict

from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def back_up_touched_items_only() -> None:
    """moto backs up a whole table before each TransactWriteItems, deep-copying
    every item once per write in the transaction, to restore it if a condition
    fails. That cost grows with the table (a 10,000-delivery run spends its
    time and memory there, DynamoDB does not), so here the backup copies the
    table's key maps and deep-copies only the items the transaction writes:
    the same rollback, since no other item can change."""
    import moto.dynamodb.models as backend_module
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType

    stock = DynamoDBBackend.transact_write_items

    def touched_keys(backend, transact_items):
        keys = defaultdict(list)
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName"))
            key = op.get("Key") or op.get("Item")
            if table is not None and key is not None:
                keys[table.name].append(key)
        return keys

    def backup(table, keys):
        saved = copy.copy(table)
        saved.items = defaultdict(dict)
        for hash_value, entries in table.items.items():
            saved.items[hash_value] = dict(entries) if table.has_range_key else entries
        for key in keys:
            hash_value = DynamoType(key[table.hash_key_attr])
            if table.has_range_key:
                range_value = DynamoType(key[table.range_key_attr])
                item = table.items.get(hash_value, {}).get(range_value)
                if item is not None:
                    saved.items[hash_value][range_value] = copy.deepcopy(item)
            elif hash_value in table.items:
                saved.items[hash_value] = copy.deepcopy(table.items[hash_value])
        return saved

    class BackupCopy:
        """Stands in for the `copy` module while one transaction runs."""

        def __init__(self, keys):
            self.keys = keys

        def deepcopy(self, value):
            if hasattr(value, "items") and hasattr(value, "hash_key_attr"):
                return backup(value, self.keys.get(value.name, []))
            return copy.deepcopy(value)

    def transact_write_items(self, transact_items):
        # One request at a time (threaded=False): the swap is not shared.
        backend_module.copy = BackupCopy(touched_keys(self, transact_items))
        try:
            return stock(self, transact_items)
        finally:
            backend_module.copy = copy

    DynamoDBBackend.transact_write_items = transact_write_items


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    if os.environ.get("EARSHOT_MOTO_ROLLBACK") == "touched":
        back_up_touched_items_only()
    run_simple(
        args.host,
        args.port,
        DomainDispatcherApplication(create_backend_app),
        threaded=False,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
