"""The Microsoft Graph adapter: the application's ports made real with msgraph-sdk.

`client` is the one Graph client (MSAL token, throttling and retries, the
directory, calendars, SharePoint files and the tracker list, mail, Teams app
installation); `senders` are the outbox channels that write through it
(calendar events, documents, tracker rows, mail); `settings` reads the Graph
settings. The application sees only the protocols in `application.ports`.
"""
