"""GD and heavy-ball on quadratics and least squares: the setup with exact closed forms."""
