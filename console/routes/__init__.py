"""One router per console area (`router = APIRouter()`); console.app.ROUTERS lists the modules it includes."""
