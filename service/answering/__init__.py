"""The answer path: retrieval, fusion, sentence selection and citations, behind AnswerService."""
