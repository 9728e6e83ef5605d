"""Client companies (seed tables client-companies, client-documents, client-invitations):
company registration and business-registry verification, company documents reviewed by an
admin, contractor invitations, and the client-contractor relationships they create."""
