"""The prediction API: ``/language/analyze-text/jobs`` with ``CustomEntityRecognition`` tasks.

versions   the runtime api-versions and what each adds
request    a submitted job body, checked whole before it is accepted
predict    one task over the documents: entities, per-document errors, statistics, text records
jobs       the job engine: bounded queue, worker threads, bounded store with expiry, cancel
results    a job as the API returns it (per version, paged)
routes     the Flask blueprint
"""
