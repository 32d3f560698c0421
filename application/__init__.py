"""The application layer: every decision between a request and the domain.

Between the pure domain (`audits`) and the adapters (`bot`, `graph`,
`scheduling`): who may open and act on what (`access`), what a person sees
next (`navigation`, `views`), who is writing (`people`), what they look at
(`queries`), the use cases that change audits (`service`) and their Microsoft
365 side effects (`effects`), and the route table that maps each card verb and
typed command to one of them (`routes`). Adapters call in; nothing here calls
out to Teams or Graph, except through the small protocols in `ports`.
"""
