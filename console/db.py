"""The console's database: its own tables beside the conversation log (`DATABASE_URL`, SQLite by default).

Every console module declares its tables on `Base`; `init_db` creates the missing ones (and the conversation
log's own table, so the console can start before the Rasa server has written anything).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.orm import Session, declarative_base, sessionmaker

from bot.conversation_log import Base as ConversationLogBase
from bot.sqlite import create_engine

Base = declarative_base()


def make_engine(url: str) -> sa.engine.Engine:
    return create_engine(url)


def init_db(engine: sa.engine.Engine) -> None:
    import console.models  # noqa: F401 - registers every table on Base

    ConversationLogBase.metadata.create_all(engine)
    Base.metadata.create_all(engine)


def session_factory(engine: sa.engine.Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker) -> Iterator[Session]:
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
