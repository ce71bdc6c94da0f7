"""The Streamlit app's pages and components (``app.py`` only wires them). No simulation logic
here: pages call :func:`twin.runner.run_scenario` and draw what it returns."""
