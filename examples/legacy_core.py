"""A SQLAlchemy 1.3-style Core script: connectionless execution, SQL strings,
select([...]) and rows used as mappings. Try `orm-modernize check --diff` on it."""

from sqlalchemy import Column, Integer, MetaData, String, Table, case, create_engine, select

metadata = MetaData()
users = Table("users", metadata, Column("id", Integer, primary_key=True), Column("name", String(20)))
engine = create_engine("sqlite://")
metadata.create_all(engine)

engine.execute(users.insert(), {"id": 1, "name": "ann"}, {"id": 2, "name": "bob"})
engine.execute(users.update(users.c.id == 2, values={"name": "bo"}))
label = case([(users.c.id == 1, "first")], else_="later")

with engine.connect() as conn:
    for row in conn.execute(select([users.c.name, label.label("rank")], order_by=[users.c.id])):
        print(row["name"], row["rank"], "name" in row)
    print(conn.scalar("SELECT count(*) FROM users WHERE name LIKE ?", "b%"))
