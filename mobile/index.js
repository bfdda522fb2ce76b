// Local entry (Expo Go, `expo start`, `expo export`). Snack uses App.tsx directly.
import { registerRootComponent } from 'expo';
import App from './App';

registerRootComponent(App);
