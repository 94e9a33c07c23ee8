useradd --create-home ada
