"""The domain: plain functions over the database session. No request, no g, no templates."""
