"""moto's server, answering one request at a time.

DynamoDB applies conditional writes to an item one at a time; moto's own
`moto_server` runs threaded and does not, so two concurrent conditional
writes can both succeed there. Serving one request at a time gives the tests
DynamoDB's guarantee. Same arguments as `moto_server`: -H HOST -p PORT.
"""

import argparse

from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    run_simple(
        args.host,
        args.port,
        DomainDispatcherApplication(create_backend_app),
        threaded=False,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
