"""`usertrail eval retrieval`: does behaviour find the article a human would pick?"""
