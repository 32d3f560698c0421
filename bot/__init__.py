"""The Teams adapter: activities in, route calls out, cards back.

`server` checks each request's Bot Framework token and hands the activity to
botbuilder; `handler` turns a message or a card press into a call on the
application's route table (`application.routes`) and the reply into cards
(`render`); `sender` delivers the outbox's cards through the Bot Connector.
Nothing here decides who may do what or which card comes next, and nothing
here opens a database session for a turn.
"""
