def get_provider_info():
    return {"package-name": "airflow-provider-flipbook", "name": "Flipbook", "description": "x"}
