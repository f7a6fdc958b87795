"""A small SQLAlchemy 1.x application, for trying orm-modernize on."""

from sqlalchemy import Column, ForeignKey, Integer, String, create_engine
from sqlalchemy.ext.declarative import declarative_base
from sqlalchemy.orm import relationship, sessionmaker

Base = declarative_base()


class Author(Base):
    __tablename__ = "authors"
    id = Column(Integer, primary_key=True)
    name = Column(String(50), nullable=False)


class Book(Base):
    __tablename__ = "books"
    id = Column(Integer, primary_key=True)
    author_id = Column(ForeignKey("authors.id"))
    title = Column(String(100))


Author.books = relationship("Book", order_by="Book.id")

engine = create_engine("sqlite://")
Session = sessionmaker(bind=engine)


def report() -> None:
    session = Session()
    Base.metadata.create_all(engine)
    session.add(Author(id=1, name="Le Guin", books=[Book(title="The Dispossessed")]))
    session.commit()
    author = session.query(Author).get(1)
    print(author.name, [b.title for b in author.books])
    print(session.query(Book).filter(Book.author_id == 1).count())
    print(session.query(Book.title).order_by(Book.title).first())


if __name__ == "__main__":
    report()
